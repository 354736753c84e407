import { DynamicModule, Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';

export const DATABASE_MODE = Symbol('DATABASE_MODE');
export type DatabaseMode = 'embedded' | 'external';

/** Hands an already initialised DataSource to Nest (start-up owns creating and closing it). */
@Global()
@Module({})
export class DatabaseModule {
  static forDataSource(dataSource: DataSource, mode: DatabaseMode): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: DataSource, useValue: dataSource },
        { provide: DATABASE_MODE, useValue: mode },
      ],
      exports: [DataSource, DATABASE_MODE],
    };
  }
}
