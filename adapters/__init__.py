"""Clients of outside services: Appium, the model server, Ray's metrics."""
