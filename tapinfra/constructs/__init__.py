"""One construct per concern. Each receives what it needs and exposes what others need."""
