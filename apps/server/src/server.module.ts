import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RuntimeModule, type BootContext } from '@bench/app-runtime';
import { OperatorActionsService } from './actions/operator-actions.service';
import { AdminController } from './api/admin.controller';
import { AuthController } from './api/auth.controller';
import { BatchesController } from './api/batches.controller';
import { FloorController } from './api/floor.controller';
import { OpenApiController, OpenApiDocument } from './api/openapi.controller';
import { RunsController } from './api/runs.controller';
import { SlotActionsController } from './api/slot-actions.controller';
import { AuthGuard } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { BatchService } from './batches/batch.service';
import { FirmwareLibraryService } from './firmware/firmware-library.service';
import { FloorService } from './floor/floor.service';
import { AlertsService } from './live/alerts.service';
import { FloorGateway } from './live/floor.gateway';
import { LiveRelayService } from './live/live-relay.service';
import { SlotDirectory } from './live/slot-directory';
import { RecorderService } from './records/recorder.service';
import { RunService } from './records/run.service';
import { ReportsController } from './reports/reports.controller';
import { ReportsService } from './reports/reports.service';

/** The HTTP API, socket.io gateway and record keeper. Never opens a USB device. */
@Module({})
export class ServerModule {
  static register(context: BootContext): DynamicModule {
    return {
      module: ServerModule,
      imports: [RuntimeModule.forRoot({ app: 'server', ...context })],
      controllers: [
        AuthController,
        FloorController,
        RunsController,
        SlotActionsController,
        AdminController,
        BatchesController,
        ReportsController,
        OpenApiController,
      ],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        AuthService,
        RunService,
        SlotDirectory,
        FloorService,
        FloorGateway,
        AlertsService,
        RecorderService,
        LiveRelayService,
        OperatorActionsService,
        FirmwareLibraryService,
        BatchService,
        OpenApiDocument,
        ReportsService,
      ],
    };
  }
}
