// Seeded randomness for the fault and fuzz tests: a fixed default keeps CI reproducible; LIFEGUARD_SEED explores.
export function seedFromEnv(fallback: number): number {
  const given = process.env['LIFEGUARD_SEED'];
  return given === undefined || given === '' ? fallback : Number.parseInt(given, 10);
}
