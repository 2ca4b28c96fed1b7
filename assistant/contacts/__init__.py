"""Contacts: one person, many channel identities, linked only on proof; their memory across channels."""
