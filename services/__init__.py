"""What the property company offers and publishes to owners (notice clauses 11, 15 and 19).

The service list with its standards and prices (and every price adjustment), home-service bookings, and the
items of the public information board the company maintains.
"""
