"""Object stores: where media bytes live, and the URLs clients use to reach them."""
