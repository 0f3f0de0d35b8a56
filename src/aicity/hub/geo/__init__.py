"""The city's geography, shared by every hub slice and agent: districts, roads, landmarks and
places (`gazetteer.py`), and the drainage network's waterlogging watch points (`drainage.py`)."""
