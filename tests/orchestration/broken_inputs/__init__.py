"""A corpus of broken landing inputs: a small valid landing set and, per fault, how to break it and what must happen."""
