import { useMemo } from 'react';
import { useSession } from '../app/session';
import { annotationApi, type AnnotationApi } from './annotation.api';

/** The annotation REST calls with the signed-in principal's token. */
export function useAnnotationApi(): AnnotationApi {
  const { api } = useSession();
  return useMemo(() => annotationApi(api), [api]);
}
