/** The app on a benchmark's own database, and that database emptied and seeded for a run. */
import { type App, createApp } from "../app.js";
import { createTokens, type TokenClaims } from "../auth/tokens.js";
import { loadConfig } from "../config.js";
import { resetShop, type SeedSizes, seedShop } from "../db/seed.js";

/** The app on `databaseUrl`, migrated, silent, with no tokens or rate limit to get in the way; the caller closes it. */
export function openBenchShop(databaseUrl: string): Promise<App> {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    SEED_DEMO: "0",
    AUTH: "off",
    RATE_LIMIT_PER_MINUTE: "0",
    LOG_LEVEL: "silent",
  });
  return createApp(config, { migrate: true });
}

/**
 * Empties the shop on `databaseUrl` and seeds it with `sizes`; `prepare` adjusts what was seeded.
 * Then ANALYZE: autovacuum may be off, and without statistics the plans are far off.
 */
export async function reseed(databaseUrl: string, sizes: SeedSizes, prepare?: (app: App) => Promise<unknown>): Promise<void> {
  const app = await openBenchShop(databaseUrl);
  try {
    await resetShop(app.prisma);
    await seedShop(app.prisma, sizes);
    await prepare?.(app);
    await app.prisma.$executeRawUnsafe("ANALYZE");
  } finally {
    await app.close();
  }
}

/** An Authorization header the benchmark's servers (AUTH_JWT_SECRET=`secret`) accept, for an hour. */
export async function authorization(secret: string, claims: TokenClaims): Promise<{ authorization: string }> {
  const tokens = createTokens({
    mode: "jwt",
    secret: { kind: "configured", value: secret },
    jwksUrl: undefined,
    issuer: undefined,
    audience: undefined,
  });
  return { authorization: `Bearer ${await tokens.sign!(claims, "1h")}` };
}
