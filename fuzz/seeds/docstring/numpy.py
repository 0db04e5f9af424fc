class C:
    def m(self, a):
        '''Summary.

        Parameters
        ----------
        a : int
            The a.

        Returns
        -------
        None
        '''
        return a


async def g(): pass
