// driver: finds drivers near a location. Each driver's record comes from a simulated Redis; the Redis is flaky, so a
// share of the requests fail with HTTP 500 after a timeout (the frontend retries them).
import { envFloat, envInt, envString, HttpError, parseLocation, randomInt, requiredParam, serve, sleep } from './common.js';

interface Driver {
  driverId: string;
  location: string;
}

const failureRate = envFloat('DEMO_DRIVER_FAILURE_RATE', 0.15);

async function redisGetDriver(id: string, near: [number, number]): Promise<Driver> {
  await sleep(randomInt(3, 12));
  const [x, y] = near;
  return { driverId: id, location: `${x + randomInt(-100, 100)},${y + randomInt(-100, 100)}` };
}

serve('driver', envString('DEMO_HOST', '127.0.0.1'), envInt('DEMO_PORT', 8082), {
  '/drivers': async (url) => {
    const location = parseLocation(requiredParam(url, 'location'), 'location');
    await sleep(randomInt(10, 30)); // GEOSEARCH drivers near the location
    if (Math.random() < failureRate) {
      await sleep(randomInt(100, 200));
      throw new HttpError(500, 'redis timeout while reading the driver index');
    }
    const count = randomInt(4, 7);
    const ids = Array.from({ length: count }, () => `T7${randomInt(10000, 99999)}C`);
    const drivers: Driver[] = [];
    for (const id of ids) drivers.push(await redisGetDriver(id, location));
    return drivers;
  },
});
