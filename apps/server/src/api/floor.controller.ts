import { Controller, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { BENCH_CONFIG } from '@bench/app-runtime';
import type { BenchConfig } from '@bench/config';
import type {
  BenchView,
  FirmwareView,
  FloorView,
  HealthSampleView,
  HostView,
  SlotDetailView,
  SlotView,
  SummaryView,
} from '@bench/events';
import { Route } from '../auth/access';
import { FirmwareLibraryService } from '../firmware/firmware-library.service';
import { FloorService } from '../floor/floor.service';
import { healthView } from '../floor/views';
import { SummaryQueryDto } from './dto';

@ApiTags('floor')
@Controller('api')
export class FloorController {
  constructor(
    private readonly floor: FloorService,
    private readonly firmware: FirmwareLibraryService,
    @Inject(BENCH_CONFIG) private readonly config: BenchConfig,
  ) {}

  private async row(slotId: string) {
    const row = await this.floor.directory.byId(slotId);
    if (!row) throw new NotFoundException(`no slot ${slotId}`);
    return row;
  }

  @Route('floor', 'Hosts, benches and every slot with its live state')
  getFloor(): Promise<FloorView> {
    return this.floor.floor();
  }

  @Route('hosts', 'Bench PCs and whether their agent is online')
  hosts(): Promise<HostView[]> {
    return this.floor.hosts();
  }

  @Route('benches')
  benches(): Promise<BenchView[]> {
    return this.floor.benches();
  }

  @Route('slots', 'Every slot with its live state')
  slots(): Promise<SlotView[]> {
    return this.floor.slots();
  }

  @Route('slot', 'One slot: live state, current run with attempts, event timeline, health')
  async slot(@Param('slotId') slotId: string): Promise<SlotDetailView> {
    return this.floor.detail(await this.row(slotId));
  }

  @Route('slotHealth', 'Health samples of a slot, oldest first')
  async slotHealth(@Param('slotId') slotId: string): Promise<HealthSampleView[]> {
    const row = await this.row(slotId);
    return (await this.floor.directory.floor.health(row.id, 500)).map(healthView);
  }

  @Route('firmware', 'IPSWs in the firmware library with their signing status')
  firmwareLibrary(): Promise<FirmwareView[]> {
    return this.firmware.list();
  }

  @Route('summary', "The manager's numbers over the last hours (default 24)")
  summary(@Query() query: SummaryQueryDto): Promise<SummaryView> {
    return this.floor.summary(query.hours ?? 24);
  }

  @Route('config', 'The bench configuration in force (hosts, benches, slots, policies, alert targets)')
  configuration() {
    return {
      file: this.config.file,
      hosts: this.config.hosts,
      policies: this.config.policies,
      // Webhook secrets stay on the server.
      alerts: { webhooks: this.config.alerts.webhooks.map(({ url, states }) => ({ url, states })) },
    };
  }
}
