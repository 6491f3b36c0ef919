"""Console-script entry points of SCoPe: thin wrappers around the ``scope`` library."""
