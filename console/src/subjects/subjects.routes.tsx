import type { RouteDef } from '../app/route-def';
import { SubjectPage } from './subject-page';

/** Who reads subjects and their consent impact; only stewards withdraw. */
const READERS = ['steward', 'auditor'];

export const subjectsRoutes: RouteDef[] = [
  { path: ['subjects'], nav: 'Subjects', roles: READERS, render: () => <SubjectPage /> },
  { path: ['subjects', ':ref'], roles: READERS, render: (p) => <SubjectPage key={p.ref} subjectRef={p.ref} /> },
];
