"""The customer turns every turn benchmark plays: help-centre questions and order flows on the sample shop's
demo customers (plain strings, so a benchmark can run them against an older checkout too)."""

# The order flows sign in by email or name + zip, as τ²-bench does: every benchmark that plays them runs with
# this identity policy, chosen explicitly (the default, "verified", would send a one-time code instead;
# docs/security.md, docs/evaluation.md).
IDENTITY_POLICY = "tau2_benchmark"

KNOWLEDGE = [
    "how long does shipping take?",
    "can I pay with PayPal?",
    "how do I return an item?",
    "when will I get my refund?",
    "do you ship to Canada?",
    "how do I reset my password?",
    "can I change the size of something I ordered?",
    "what is your policy on damaged items?",
    "how do I use a gift card?",
    "how much is standard shipping?",
]
ORDER_FLOWS = [
    ["where is my order?", "emma.laurent@example.com"],
    ["my email is lucas.devries@example.com, where is order #W1000004?"],
    ["I want to cancel order #W1000001", "emma.laurent@example.com", "I don't need it anymore", "no"],
    ["I want to return the water bottle from my order", "I'm Emma Laurent, zip 97205", "no"],
]
