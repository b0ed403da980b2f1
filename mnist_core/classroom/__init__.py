"""Serving a class: the job queue and its fairness policy, who is who, the backends (a thread here or Ray)
and the live feed a page follows."""
