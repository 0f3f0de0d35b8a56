"""Knowledge center (知识中心): documents, structure-aware chunks, retrieval with citations."""
