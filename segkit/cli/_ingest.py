"""``segkit ingest``: placeholder until the io module lands (replaced by the ingest work)."""
