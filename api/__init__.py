"""The HTTP edge's pieces: request/response models, error mapping and the stream fan-out."""
