/**
 * The exercise vocabulary: the values the public catalog (free-exercise-db, public domain) uses.
 * Custom exercises take their enumerations from the same lists, so filters and facets work across
 * catalog and custom entries alike. Adding a value is safe; removing one would make stored events
 * unreadable (validators run on read).
 */

export const EXERCISE_CATEGORIES = ['strength', 'stretching', 'plyometrics', 'strongman', 'powerlifting', 'cardio', 'olympic weightlifting'] as const;
export type ExerciseCategory = (typeof EXERCISE_CATEGORIES)[number];

export const EXERCISE_LEVELS = ['beginner', 'intermediate', 'expert'] as const;
export type ExerciseLevel = (typeof EXERCISE_LEVELS)[number];

export const MUSCLES = [
  'abdominals',
  'abductors',
  'adductors',
  'biceps',
  'calves',
  'chest',
  'forearms',
  'glutes',
  'hamstrings',
  'lats',
  'lower back',
  'middle back',
  'neck',
  'quadriceps',
  'shoulders',
  'traps',
  'triceps',
] as const;
export type Muscle = (typeof MUSCLES)[number];

export const EQUIPMENT = [
  'bands',
  'barbell',
  'body only',
  'cable',
  'dumbbell',
  'e-z curl bar',
  'exercise ball',
  'foam roll',
  'kettlebells',
  'machine',
  'medicine ball',
  'other',
] as const;
export type Equipment = (typeof EQUIPMENT)[number];

export const MECHANICS = ['compound', 'isolation'] as const;
export type Mechanic = (typeof MECHANICS)[number];

export const FORCES = ['pull', 'push', 'static'] as const;
export type Force = (typeof FORCES)[number];

/**
 * Who sees a custom exercise: `private` — its owner only; `organisation` — everyone in the owner's
 * organisation (the token's tenant for now). Catalog entries are `public` (never written as events).
 */
export const EXERCISE_VISIBILITIES = ['private', 'organisation'] as const;
export type ExerciseVisibility = (typeof EXERCISE_VISIBILITIES)[number];
