"""The controller runtime of ``stigmer serve``: the loop, its work queue, health and memory."""
