"""数据分析智能体: officials\x27 one-sentence data questions answered by the data hub (一句话问数)."""
