def f(x: int, *args, y=2, **kw) -> int:
    """Add.

    Args:
        x (int): the x.
        z: not there.

    Returns:
        int: sum

    Raises:
        ValueError: never
    """
    if x:
        raise KeyError(x)
    yield x
