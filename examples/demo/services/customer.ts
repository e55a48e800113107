// customer: looks customers up in a simulated slow SQL database. A small connection pool makes concurrent requests
// queue (as in HotROD, the latency grows with load), and now and then a query hits a "table lock" and takes far longer.
import { envFloat, envInt, envString, HttpError, randomInt, requiredParam, serve, sleep } from './common.js';

interface Customer {
  id: string;
  name: string;
  location: string;
}

const CUSTOMERS: Customer[] = [
  { id: '123', name: 'Harbour Lights Bakery', location: '115,277' },
  { id: '392', name: 'Northwind Bicycles', location: '577,322' },
  { id: '567', name: 'Blue Heron Books', location: '211,653' },
  { id: '731', name: 'Copper Kettle Tea Room', location: '728,326' },
];

const poolSize = envInt('DEMO_DB_POOL_SIZE', 2);
const slowRate = envFloat('DEMO_DB_SLOW_RATE', 0.05);

/** A connection pool: at most `poolSize` queries run at once, the others wait in FIFO order. */
let inUse = 0;
const waiting: Array<() => void> = [];
async function withConnection<T>(fn: () => Promise<T>): Promise<T> {
  if (inUse >= poolSize) await new Promise<void>((resolve) => waiting.push(resolve));
  else inUse++;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else inUse--;
  }
}

async function selectCustomer(id: string): Promise<Customer | undefined> {
  return withConnection(async () => {
    // SELECT * FROM customer WHERE customer_id = ?
    const slow = Math.random() < slowRate;
    await sleep(slow ? randomInt(500, 900) : randomInt(30, 120));
    return CUSTOMERS.find((c) => c.id === id);
  });
}

serve('customer', envString('DEMO_HOST', '127.0.0.1'), envInt('DEMO_PORT', 8081), {
  '/customer': async (url) => {
    const id = requiredParam(url, 'customer');
    const customer = await selectCustomer(id);
    if (!customer) throw new HttpError(404, `customer ${id} not found`);
    return customer;
  },
  '/customers': async () => CUSTOMERS,
});
