"""RQ job functions (taking ids, not objects), the worker class and the scheduler command."""
