"""Call-backs: a caller nobody could take asks to be rung when someone is free."""
