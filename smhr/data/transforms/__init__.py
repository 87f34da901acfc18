"""Image warps, and the similarity and mirror transforms that every annotation follows."""
