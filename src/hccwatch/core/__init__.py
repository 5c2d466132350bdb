"""The pure clinical core: no I/O beyond reading the packaged knowledge, no clock."""
