"""The Events API (a shop tells Nudge what its customers did) and outbound webhooks (Nudge
tells the shop what happened in its chats and funnels). Transport-free, except the webhook
sender in `http.py`."""
