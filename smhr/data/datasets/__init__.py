"""Dataset adapters (one per on-disk format), the sample contract, file reading and dataset checks."""
