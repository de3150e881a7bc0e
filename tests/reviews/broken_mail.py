"""An email backend whose server refuses every connection, as a mail server that is down does."""

from django.core.mail.backends.base import BaseEmailBackend


class Backend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("Connection refused by the mail server")
