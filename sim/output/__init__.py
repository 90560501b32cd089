"""What a run leaves behind: the summary, the results folder, the timeline and costs per person."""
