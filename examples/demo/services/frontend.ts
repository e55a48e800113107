// frontend: the entry point. `GET /dispatch?customer=ID` finds the customer (customer service), the drivers near them
// (driver service, retried when it fails) and the route from each driver to the customer (route service, three at a
// time), and answers with the nearest driver. `GET /` serves a small page with one button per customer.
import { envInt, envString, getJson, HttpError, requiredParam, serve, sleep } from './common.js';

interface Customer {
  id: string;
  name: string;
  location: string;
}
interface Driver {
  driverId: string;
  location: string;
}
interface Route {
  etaSeconds: number;
}

const customerUrl = envString('DEMO_CUSTOMER_URL', 'http://127.0.0.1:8081');
const driverUrl = envString('DEMO_DRIVER_URL', 'http://127.0.0.1:8082');
const routeUrl = envString('DEMO_ROUTE_URL', 'http://127.0.0.1:8083');
const driverAttempts = envInt('DEMO_DRIVER_ATTEMPTS', 3);
const routeWorkers = envInt('DEMO_ROUTE_WORKERS', 3);

async function findDrivers(location: string): Promise<{ drivers: Driver[]; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const drivers = await getJson<Driver[]>(`${driverUrl}/drivers?location=${encodeURIComponent(location)}`);
      return { drivers, attempts: attempt };
    } catch (err) {
      if (attempt >= driverAttempts) {
        throw new HttpError(503, `no drivers available after ${attempt} attempts: ${(err as Error).message}`);
      }
      await sleep(20 * attempt);
    }
  }
}

/** Runs `fn` over `items` with at most `workers` calls in flight. */
async function pool<T, R>(items: T[], workers: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, items.length) }, worker));
  return out;
}

async function dispatch(customerId: string): Promise<unknown> {
  const customer = await getJson<Customer>(`${customerUrl}/customer?customer=${encodeURIComponent(customerId)}`);
  const { drivers, attempts } = await findDrivers(customer.location);
  const routes = await pool(drivers, routeWorkers, (d) =>
    getJson<Route>(
      `${routeUrl}/route?pickup=${encodeURIComponent(d.location)}&dropoff=${encodeURIComponent(customer.location)}`,
    ),
  );
  let best = 0;
  routes.forEach((r, i) => {
    if (r.etaSeconds < (routes[best] as Route).etaSeconds) best = i;
  });
  const driver = drivers[best] as Driver;
  return {
    customer: customer.name,
    driver: driver.driverId,
    etaSeconds: (routes[best] as Route).etaSeconds,
    driverAttempts: attempts,
  };
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Skua demo: ride dispatch</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:46em}button{margin:.2em;padding:.5em 1em}
pre{background:#f4f4f4;padding:.6em}</style></head>
<body><h1>Ride dispatch</h1>
<p>Each click calls <code>/dispatch</code>, which calls the customer, driver and route services. Find the traces
in Skua (service <b>frontend</b>).</p>
<div id="buttons"></div><pre id="log"></pre>
<script>
const log = document.getElementById('log');
fetch('/customers').then(r => r.json()).then(cs => cs.forEach(c => {
  const b = document.createElement('button');
  b.textContent = c.name;
  b.onclick = async () => {
    const t0 = performance.now();
    const r = await fetch('/dispatch?customer=' + c.id);
    const body = await r.json();
    log.textContent = r.status + ' in ' + Math.round(performance.now() - t0) + ' ms: ' + JSON.stringify(body) + '\\n' + log.textContent;
  };
  document.getElementById('buttons').appendChild(b);
}));
</script></body></html>`;

serve(
  'frontend',
  envString('DEMO_HOST', '127.0.0.1'),
  envInt('DEMO_PORT', 8080),
  {
    '/dispatch': async (url) => dispatch(requiredParam(url, 'customer')),
    '/customers': async () => getJson<Customer[]>(`${customerUrl}/customers`),
  },
  { '/': () => PAGE },
);
