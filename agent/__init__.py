"""The agent's plain-Python loop for one run: no Ray, no HTTP; it drives a device through a port."""
