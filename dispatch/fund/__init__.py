"""Housing special maintenance fund: accounts, ledger, emergency draws, votes and disclosure."""
