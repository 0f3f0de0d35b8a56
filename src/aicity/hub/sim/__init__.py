"""Simulations (推演模拟): jobs run in their own processes (`jobs.py`), the flood simulation on EPA
SWMM (`flood.py`), and the interfaces `/api/v1/sim`, `aicity sim`."""
