"""Names of the target: the alias matcher, resolution by JPL SBDB and the MPC, and storing what they answer."""
