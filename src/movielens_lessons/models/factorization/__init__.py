"""Matrix factorisation: pure SVD, ALS and BPR (through ``implicit``), LightFM (implicit feedback), and
explicit ALS and Funk SVD for ratings."""
