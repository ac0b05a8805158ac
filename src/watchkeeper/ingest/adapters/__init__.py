"""One adapter module per wire format; each turns a request body into normalized events."""
