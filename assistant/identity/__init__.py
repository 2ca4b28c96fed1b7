"""Who the customer is: signed tokens from the shop (and, later, one-time codes)."""
