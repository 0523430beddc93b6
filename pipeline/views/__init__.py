"""What people read: the terminal, the morning report, the worklist and the exports."""
