"""What crosses the boundary: instances of other tools read into scenarios."""
