import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { PostgresEventStore, migrateEventStore } from '../src/index';
import { eventStoreContract, type StoreFactory } from './eventStoreContract';

const adapters: StoreFactory[] = [
  {
    name: 'PostgreSQL',
    async create() {
      const db = await testDatabase('es_contract');
      const pool = new pg.Pool({ connectionString: db.url, max: 20 });
      await migrateEventStore(pool);
      const store = new PostgresEventStore({ pool });
      return {
        store,
        async dispose() {
          await store.close();
          await pool.end();
          await db.drop();
        },
      };
    },
  },
];

for (const adapter of adapters) eventStoreContract(adapter);
