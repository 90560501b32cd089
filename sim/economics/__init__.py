"""Economics: unit prices and payer shares applied to the event log's quantities after the run.

``narvard reprice RESULTS_DIR --costs FILE`` prices a finished run again without simulating
care again (:mod:`sim.reprice`). The layer sits below the results and the summary, which price
the rows with it.
"""

from sim.economics.prices import Prices, cost_by_payer, price_table

__all__ = ["Prices", "cost_by_payer", "price_table"]
