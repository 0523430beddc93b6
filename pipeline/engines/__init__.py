"""The analysis engines: the offline rules and the LLM, the one seam to the network."""
