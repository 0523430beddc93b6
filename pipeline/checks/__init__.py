"""What the code decides, not the model: every quote verified against the text, and the label policy."""
