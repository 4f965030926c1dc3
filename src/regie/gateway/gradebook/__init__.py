"""Results back: the OneRoster 1.2 Gradebook Service (REST/JSON binding, PUT of line items and
results) for suppliers, and the page where teachers see their own groups' results."""
