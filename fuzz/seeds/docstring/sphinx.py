def h(p, q):
    r"""Do \ it.

    :param p: p
    :type p: str
    :returns: nothing
    :raises OSError: when
    """

x = lambda: 1
