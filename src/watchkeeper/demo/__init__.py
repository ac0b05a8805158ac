"""`watchkeeper demo`: an online shop's configuration, its history and a live incident."""
