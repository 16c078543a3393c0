/**
 * Personal records per exercise, computed from the current set list (after corrections and
 * deletions), so they are always a pure function of the sets and recompute on any change.
 * Warm-up sets and sets without a positive load and reps never count. Ties go to the earlier set.
 */

export const REP_MAX_TARGETS = [1, 3, 5, 10] as const;
export type RepMaxTarget = (typeof REP_MAX_TARGETS)[number];

/** The fields a set needs to count; sets from many workouts can be passed together. */
export type PersonalRecordSet = {
  readonly setId: string;
  readonly exerciseId: string;
  readonly reps?: number;
  readonly loadKg?: number;
  readonly warmUp: boolean;
};

export type RecordSet = { readonly setId: string; readonly loadKg: number; readonly reps: number };
export type EstimatedOneRepMax = RecordSet & { readonly estimatedKg: number };
export type SetVolumeRecord = RecordSet & { readonly volumeKg: number };

export type ExercisePersonalRecords = {
  readonly exerciseId: string;
  /** n-rep max: the heaviest load lifted for at least n reps. */
  readonly repMax: Partial<Record<RepMaxTarget, RecordSet>>;
  readonly estimatedOneRepMax: { readonly epley?: EstimatedOneRepMax; readonly brzycki?: EstimatedOneRepMax };
  /** Heaviest load × reps in one set. */
  readonly bestSetVolume?: SetVolumeRecord;
};

/**
 * Epley (1985): 1RM = w·(1 + r/30). A single is its own 1RM: for r = 1 the formula would add 3.3 %,
 * so it is applied for r > 1 only, as is usual.
 */
export function epleyOneRepMax(loadKg: number, reps: number): number {
  return reps <= 1 ? loadKg : loadKg * (1 + reps / 30);
}

/** Brzycki (1993): 1RM = w·36/(37 − r), defined for r < 37 only (undefined otherwise). */
export function brzyckiOneRepMax(loadKg: number, reps: number): number | undefined {
  return reps < 37 ? (loadKg * 36) / (37 - reps) : undefined;
}

type MutableRecords = {
  exerciseId: string;
  repMax: Partial<Record<RepMaxTarget, RecordSet>>;
  estimatedOneRepMax: { epley?: EstimatedOneRepMax; brzycki?: EstimatedOneRepMax };
  bestSetVolume?: SetVolumeRecord;
};

/** Personal records of every exercise that has at least one counting set, keyed by exerciseId. */
export function personalRecords(sets: readonly PersonalRecordSet[]): Readonly<Record<string, ExercisePersonalRecords>> {
  const byExercise: Record<string, MutableRecords> = {};
  for (const set of sets) {
    const { loadKg, reps } = set;
    if (set.warmUp || loadKg === undefined || reps === undefined || loadKg <= 0 || reps < 1) continue;
    const records = (byExercise[set.exerciseId] ??= { exerciseId: set.exerciseId, repMax: {}, estimatedOneRepMax: {} });
    const ref: RecordSet = { setId: set.setId, loadKg, reps };

    for (const target of REP_MAX_TARGETS) {
      const best = records.repMax[target];
      if (reps >= target && (best === undefined || loadKg > best.loadKg)) records.repMax[target] = ref;
    }
    const epley = epleyOneRepMax(loadKg, reps);
    if (records.estimatedOneRepMax.epley === undefined || epley > records.estimatedOneRepMax.epley.estimatedKg) {
      records.estimatedOneRepMax.epley = { ...ref, estimatedKg: epley };
    }
    const brzycki = brzyckiOneRepMax(loadKg, reps);
    if (brzycki !== undefined && (records.estimatedOneRepMax.brzycki === undefined || brzycki > records.estimatedOneRepMax.brzycki.estimatedKg)) {
      records.estimatedOneRepMax.brzycki = { ...ref, estimatedKg: brzycki };
    }
    const volumeKg = loadKg * reps;
    if (records.bestSetVolume === undefined || volumeKg > records.bestSetVolume.volumeKg) {
      records.bestSetVolume = { ...ref, volumeKg };
    }
  }
  return byExercise;
}
