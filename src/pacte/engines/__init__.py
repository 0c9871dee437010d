"""Pure engines: no Django imports. Plain typed functions and classes."""
