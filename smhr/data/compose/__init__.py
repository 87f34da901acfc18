"""Multi-hand composition: single hands pasted onto backgrounds into the composed set."""
