import { Args, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { ConsentImpact, ModelProvenance } from './lineage.models';
import { LineageNodeConnection, NodePageArgs, nodePage } from './node-connection';

/** The node lists of modelProvenance as Relay connections (`first` up to 1000, `after` a cursor). */
@Resolver(() => ModelProvenance)
export class ModelProvenanceListsResolver {
  @ResolveField(() => LineageNodeConnection, { description: 'Annotation set versions, with agreement.' })
  annotationSets(@Parent() p: ModelProvenance, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(p.annotationSets, page);
  }

  @ResolveField(() => LineageNodeConnection)
  datasetVersions(@Parent() p: ModelProvenance, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(p.datasetVersions, page);
  }

  @ResolveField(() => LineageNodeConnection)
  evaluations(@Parent() p: ModelProvenance, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(p.evaluations, page);
  }

  @ResolveField(() => LineageNodeConnection)
  promotions(@Parent() p: ModelProvenance, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(p.promotions, page);
  }
}

/** The lists of consentImpact as Relay connections: a subject's data reaches more with every dataset version and run. */
@Resolver(() => ConsentImpact)
export class ConsentImpactListsResolver {
  @ResolveField(() => LineageNodeConnection)
  consents(@Parent() c: ConsentImpact, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(c.consents, page);
  }

  @ResolveField(() => LineageNodeConnection, { description: 'Raw and curated assets.' })
  assets(@Parent() c: ConsentImpact, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(c.assets, page);
  }

  @ResolveField(() => LineageNodeConnection)
  datasetVersions(@Parent() c: ConsentImpact, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(c.datasetVersions, page);
  }

  @ResolveField(() => LineageNodeConnection)
  annotationSets(@Parent() c: ConsentImpact, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(c.annotationSets, page);
  }

  @ResolveField(() => LineageNodeConnection)
  snapshots(@Parent() c: ConsentImpact, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(c.snapshots, page);
  }

  @ResolveField(() => LineageNodeConnection)
  trainingRuns(@Parent() c: ConsentImpact, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(c.trainingRuns, page);
  }

  @ResolveField(() => LineageNodeConnection, { description: "With each version's flags and aliases in its states." })
  modelVersions(@Parent() c: ConsentImpact, @Args() page: NodePageArgs): LineageNodeConnection {
    return nodePage(c.modelVersions, page);
  }
}
